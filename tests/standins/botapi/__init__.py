"""A fake Telegram Bot API server for end-to-end tests, faithful enough for python-telegram-bot 22.

Serve ``FakeTelegram().app`` on loopback with ``tests.standins.serving`` and point the bot at it
with ``base_url(f"{url}/bot")`` and ``base_file_url(f"{url}/file/bot")``. Tests act as users
through ``fake.user(...)`` and assert on what the bot did (``sent_messages``, ``edits``,
``wait_for_message``, ``calls``...). Import it from ``tests.standins``; its modules, one concern
each:

- ``fake``: ``FakeTelegram``, which wires the rest, and what tests control and read;
- ``users``: ``FakeUser``, a person sending text and pressing buttons;
- ``routes``: the HTTP routes, and the record of every call (``Call``);
- ``params``: requests as JSON, form-urlencoded or multipart, checked as Telegram checks them;
- ``html``: HTML parse mode checked as Telegram's parser does (unsupported, unclosed or unmatched
  tags are 400); text at most 4096 and captions 1024 characters after parsing;
- ``messages``: sends, edits and deletes (``SentMessage``, ``Edit``); ``chats``: messages as
  they show now; ``files``: uploads, getFile and the file route;
- ``callbacks``: button presses and answerCallbackQuery; ``profile``: getMe, commands, menus;
- ``inline``: inline mode: users' inline queries, answerInlineQuery checked as Telegram checks
  it, a chosen result posted in a chat via the bot (``InlineAnswer``, ``ViaBotMessage``);
- ``updates``, ``polling``, ``webhook``: the update queue, getUpdates long polling (a newer
  poll ends a waiting one with 409) and webhook pushes (secret header, retries, 409 for
  getUpdates meanwhile);
- ``flood``: flood control (``FloodLimits``): a token bucket per chat (1 message a second,
  bursts of 3) and one for the whole bot (30 a second, bursts of 30), 429 with ``retry_after``;
- ``faults``: failures on demand (``fail_next``, ``RandomFaults``); ``errors``: their wording;
- ``waiting``: the one loop behind every ``wait_for_*``; ``records``: what tests read back.

Simplified: a chat the fake has not seen is a private chat named after its id; photos are not
resized; Markdown is not checked; the text of a sent message is returned as sent, tags included,
and its parse_mode is recorded.
"""
