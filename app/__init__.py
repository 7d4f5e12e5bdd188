"""Restaurant service: reservations, floor, orders and kitchen."""
