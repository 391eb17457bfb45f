from stockpile.cli.app import main

main()
