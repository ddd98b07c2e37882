from nordcert.cli.main import run

run()
