"""The reservation form, the reservations table and the requests behind them."""
