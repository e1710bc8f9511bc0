import sys

from rdmf.cli import main

sys.exit(main())
