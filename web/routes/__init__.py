"""HTTP routes: thin adapters from requests to services; models come from `a3cp.schemas` only."""
