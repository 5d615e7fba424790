import sys

from smacish.cli import main

sys.exit(main())
