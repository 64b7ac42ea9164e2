from biasinherit.cli import main

main()
