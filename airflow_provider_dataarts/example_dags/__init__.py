"""Example DAGs; ``make demo`` runs them against the local emulator."""
