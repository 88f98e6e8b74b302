// NetHealTestKit: see Package.swift for this layer's role.
import NetHealCore
