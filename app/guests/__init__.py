"""Guests: the people bookings are for, with or without an account."""
