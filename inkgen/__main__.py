import sys

from inkgen.cli import main

sys.exit(main())
