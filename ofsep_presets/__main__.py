from ofsep_presets.cli import main

main()
