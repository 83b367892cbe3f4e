"""How many jobs a page of a listing holds: the gateway enforces it, the HTTP service offers it."""

DEFAULT_PAGE = 50  # jobs on a page that asks for 0
MAX_PAGE = 1000  # the most a page may ask for
