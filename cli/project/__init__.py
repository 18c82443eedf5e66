"""`wsk project`: deploying and undeploying wskdeploy manifests (see commands)."""
