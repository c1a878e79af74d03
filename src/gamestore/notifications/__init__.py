"""The notifier: purchase, payment and sign-up events → a player's notifications (``notifier``)."""
