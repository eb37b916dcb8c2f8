from finews.cli import main

main()
