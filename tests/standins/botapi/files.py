"""Files the bot uploads, kept for getFile and the file route.

Photos are not resized: every PhotoSize of an upload serves the uploaded bytes. File ids depend
only on the bytes, so the same upload twice gets the same ids, as on Telegram.
"""

from __future__ import annotations

import hashlib
import struct
from pathlib import PurePosixPath

from tests.standins.botapi.errors import bad_request
from tests.standins.botapi.params import ApiRequest
from tests.standins.botapi.records import JSONDict, StoredFile

_PHOTO_SIDES = (90, 320, 800, 1280)  # the PhotoSize variants Telegram makes, longest side


class FileStore:
    """Uploaded files by file id and by download path."""

    def __init__(self) -> None:
        self._by_id: dict[str, StoredFile] = {}
        self._by_path: dict[str, StoredFile] = {}

    def at(self, path: str) -> StoredFile | None:
        """The file the file route serves at ``path``."""
        return self._by_path.get(path)

    def get(self, file_id: str) -> StoredFile | None:
        """The file uploaded under ``file_id``, if any."""
        return self._by_id.get(file_id)

    def source(self, req: ApiRequest, name: str) -> tuple[bytes, str | None, str | None]:
        """Bytes, file name and MIME type of an upload, an attach:// part or a known file_id."""
        return self.resolve(req, name, req.params.get(name))

    def resolve(
        self, req: ApiRequest, name: str, value: object
    ) -> tuple[bytes, str | None, str | None]:
        """``source`` for ``value``, given as ``name`` or inside it (an album's ``media``)."""
        part = name
        if isinstance(value, str) and value.startswith("attach://"):
            part = value.removeprefix("attach://")
        upload = req.uploads.get(part)
        if upload is not None:
            if not upload.data:
                raise bad_request("file must be non-empty")
            return upload.data, upload.filename, upload.content_type
        if not value:
            raise bad_request(f"there is no {name} in the request")
        stored = self._by_id.get(str(value))
        if stored is None:
            raise bad_request("wrong file identifier/HTTP URL specified")
        return stored.data, stored.file_name, stored.mime_type

    def photo_sizes(self, data: bytes) -> list[JSONDict]:
        """PhotoSizes for a photo, with file ids that depend only on its bytes."""
        size = _image_size(data)
        if size is None:
            raise bad_request("IMAGE_PROCESS_FAILED")
        extension, width, height = size
        if width + height > 10000 or max(width, height) > 20 * max(1, min(width, height)):
            raise bad_request("PHOTO_INVALID_DIMENSIONS")
        digest = hashlib.sha256(data).hexdigest()
        longest = max(width, height, 1)
        sizes: list[JSONDict] = []
        for side in _PHOTO_SIDES:
            scale = min(1.0, side / longest)
            stored = self._store(
                StoredFile(
                    file_id=f"AgACAgIAAxkDAAI{digest[:32]}{side}",
                    file_unique_id=f"AQAD{digest[:12]}{side}",
                    file_path=f"photos/file_{digest[:16]}_{side}.{extension}",
                    data=data,
                    mime_type=f"image/{'png' if extension == 'png' else 'jpeg'}",
                )
            )
            sizes.append(
                {
                    "file_id": stored.file_id,
                    "file_unique_id": stored.file_unique_id,
                    "width": max(1, round(width * scale)),
                    "height": max(1, round(height * scale)),
                    "file_size": len(data),
                }
            )
            if longest <= side:
                break
        return sizes

    def document(self, data: bytes, file_name: str | None, mime_type: str | None) -> JSONDict:
        """A Document object for uploaded bytes, with ids that depend only on them."""
        digest = hashlib.sha256(data).hexdigest()
        suffix = PurePosixPath(file_name or "").suffix
        stored = self._store(
            StoredFile(
                file_id=f"BQACAgIAAxkDAAI{digest[:32]}",
                file_unique_id=f"AgAD{digest[:12]}",
                file_path=f"documents/file_{digest[:16]}{suffix}",
                data=data,
                file_name=file_name,
                mime_type=mime_type,
            )
        )
        document: JSONDict = {
            "file_id": stored.file_id,
            "file_unique_id": stored.file_unique_id,
            "file_size": len(data),
        }
        if file_name:
            document["file_name"] = file_name
        if mime_type:
            document["mime_type"] = mime_type
        return document

    async def get_file(self, req: ApiRequest) -> object:
        """``getFile``: where to download an uploaded file."""
        stored = self._by_id.get(str(req.params.get("file_id") or ""))
        if stored is None:
            raise bad_request("invalid file_id")
        return {
            "file_id": stored.file_id,
            "file_unique_id": stored.file_unique_id,
            "file_size": len(stored.data),
            "file_path": stored.file_path,
        }

    def _store(self, stored: StoredFile) -> StoredFile:
        """Keep a file for getFile and the file route."""
        self._by_id[stored.file_id] = stored
        self._by_path[stored.file_path] = stored
        return stored


def _image_size(data: bytes) -> tuple[str, int, int] | None:
    """Extension, width and height of a PNG or JPEG; None for what Telegram cannot read."""
    if data.startswith(b"\x89PNG\r\n\x1a\n") and len(data) >= 24:
        width, height = struct.unpack(">II", data[16:24])
        return "png", int(width), int(height)
    if not data.startswith(b"\xff\xd8"):
        return None
    index = 2
    while index + 9 <= len(data) and data[index] == 0xFF:
        marker = data[index + 1]
        # SOF0..SOF15 carry the frame size; C4, C8 and CC are other segments in that range.
        if 0xC0 <= marker <= 0xCF and marker not in (0xC4, 0xC8, 0xCC):
            height, width = struct.unpack(">HH", data[index + 5 : index + 9])
            return "jpg", int(width), int(height)
        (length,) = struct.unpack(">H", data[index + 2 : index + 4])
        index += 2 + int(length)
    return None
