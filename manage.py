#!/usr/bin/env python
from readerfund.cli import main

if __name__ == "__main__":
    main()
