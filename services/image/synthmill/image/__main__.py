"""`python -m synthmill.image` runs the image server configured from the environment."""

from synthmill.image.serving.main import run

run()
