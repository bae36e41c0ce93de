"""`python -m cs_xl …` is `cs-xl …`."""
import sys

from .cli import main

sys.exit(main())
