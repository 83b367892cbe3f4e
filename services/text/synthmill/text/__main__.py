"""`python -m synthmill.text`: the text server, configured by SYNTHMILL_TEXT_* variables."""

from synthmill.text.main import run

run()
