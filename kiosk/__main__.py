from kiosk.cli import run

run()
