import sys

from medkg.cli import main

sys.exit(main())
