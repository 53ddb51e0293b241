"""Targeting that learns from outcomes.

* ``features``: the feature vector of every assessed line (schema-versioned), stored with the model that scored it;
* ``labels``: terminal case outcomes (``cases.events.v1``) and officers' control-sample results joined to them,
  control-sample labels marked unbiased;
* ``train``: a LightGBM model on the labelled lines, time-ordered split, deterministic given a seed, written to
  the model registry with its metrics and data window;
* ``registry``: the model registry and its audited decisions (shadow, promotion under four eyes, rollback);
* ``serving``: the champion's probability beside the rules (with its top feature contributions in the reasons),
  the shadow model scored and stored but not used, drift metrics.
"""
