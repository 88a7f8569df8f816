"""`python main.py` opens the desktop app; `python main.py <command>` runs the CLI."""

from app.main import main

if __name__ == "__main__":
    raise SystemExit(main())
