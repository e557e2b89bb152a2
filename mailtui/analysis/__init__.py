"""What needs both parsing and recognition: the live view, correlation of conversations, who.

Above mailtui.logs and mailtui.recognizers, which do not import each other (see docs/architecture.md)."""
