"""Pivot's static-payment error messages, word for word (docs/pivot-api.md §errors).

The tests' own copy, independent of the simulator's and the client's: they must agree with
the documentation, not with each other.
"""

# The top-level message of every 400 api_validation_error (Response & Failure Code table).
GENERIC_400 = "The request was invalid, or an error occurred in downstream provider"
# ... and of a 409 duplicate_error.
DUPLICATE = "There's already existing record with the provided details"
MULTIPLE_MODE = "paymentType 'MULTIPLE' is only allowed when mode is set to 'API'"
MULTIPLE_METHOD = "paymentType 'MULTIPLE' is not allowed for this payment method type"
VA_RANGE = (
    "The requested Virtual Account number is not within your assigned static VA range. "
    "Please check your configuration."
)
VA_TAKEN = (
    "The Virtual Account number you requested has already been assigned. "
    "Please choose a different number."
)
QRIS_LIMIT = (
    "The number of static QRIS you've created has reached the allowed limit. "
    "Cannot create a new QRIS."
)
QRIS_AMOUNT = (
    "QRIS with paymentType = MULTIPLE must not include an amount. "
    "Remove the amount value from the request."
)
NO_DYNAMIC_VA = (
    "No available VA number to assign. All dynamic VA numbers in the configured range are in use."
)
