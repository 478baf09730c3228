"""What a JSON parser's complaint means for someone typing JSON, in plain words.

Python's parser says "Expecting property name enclosed in double quotes"; a creator needs
to hear that names need double quotes, and an example. The body editor (``ui/api_words.py``), the
request pipeline (``api/pipeline.py``) and the command line's ``--data`` all use these.
"""

from __future__ import annotations


def plain_json_words(message: str, text: str, position: int) -> str:
    """Say what a :class:`json.JSONDecodeError` means for someone typing JSON, and what to do.

    The body editor (``ui/api_words.py``) and the request pipeline both show these words.

    Args:
        message: The parser's message (``exc.msg``), e.g. "Expecting ',' delimiter".
        text: The JSON as typed.
        position: Where the parser stopped (``exc.pos``).
    """
    here = text[position : position + 1]
    at_end = not text[position:].strip()
    if message.startswith("Expecting") and at_end:
        return "it stops too soon: something is missing at the end, like a closing } or ]."
    if message.startswith("Expecting property name"):
        if here == "}":
            return "remove the comma before the closing }."
        return 'names need double quotes, like "email".'
    if message == "Expecting value":
        if here == "]":
            return "remove the comma before the closing ]."
        if here == "'":
            return 'text needs double quotes, like "Completed", not single quotes.'
        return (
            'a value is missing or not valid here: text needs double quotes, like "Completed"; '
            "true, false and null are written in small letters."
        )
    if message == "Expecting ':' delimiter":
        return 'put a colon between a name and its value, like "email": "ada@example.com".'
    if message == "Expecting ',' delimiter":
        return "a comma is missing between two items."
    if message.startswith("Unterminated string"):
        return 'a closing double quote (") is missing.'
    if message.startswith("Invalid control character"):
        return r"text in quotes cannot hold a line break or a tab; write \n or \t instead."
    if message.startswith(("Invalid \\escape", "Invalid \\uXXXX")):
        return r"a backslash starts something JSON does not know; write \\ for a backslash."
    if message.startswith("Extra data"):
        return "there is more after the end: the body must be one value, like one {…}."
    if message.startswith("Illegal trailing comma"):  # Python 3.13 and later, at the comma
        closing = "]" if message.endswith("array") else "}"
        return f"remove the comma before the closing {closing}."
    if message == "Nested too deeply":
        return "it is nested too deeply (too many { or [ inside one another)."
    return "check the quotes, commas and brackets there."
