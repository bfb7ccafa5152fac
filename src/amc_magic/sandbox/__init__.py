"""A faithful local AMC: the reporting API (``app``, ``serve``, ``transport``) over synthetic data
(``data``, ``generate``, ``storage``) queried with AMC SQL (``database``, ``dialect``, ``thresholds``)."""
