"""The reader's checkout: its pages, the start and pay endpoints, and the services behind them (one-off and
recurring), with the lease that keeps a double click or a reload from paying twice."""
