"""Reports: the conformance matrix, Allure labels and attachments, gating, history. Checks never import this."""
