"""Plain data every layer shares: one parsed log line (LogRecord). Imports nothing of mailtui."""
