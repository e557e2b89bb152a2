"""The Textual dashboard. The only package of mailtui that imports Textual or Rich."""
