"""What only workers do: talk to providers, Stripe and the mail server."""
