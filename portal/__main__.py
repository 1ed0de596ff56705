from portal.cli import main

main(prog_name="portal")
