"""One module per `wsk` command group; cli.main assembles them."""
