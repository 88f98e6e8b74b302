import NetHealCLI

Entry.prepare()
await Entry.main()
