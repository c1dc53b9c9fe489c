"""How this process is configured: settings from the environment, secrets kept out of sight, the account it runs as."""
