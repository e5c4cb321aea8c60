import sys

from repro_core.cli import main

sys.exit(main())
