import NetHealCLI

await Entry.main()
