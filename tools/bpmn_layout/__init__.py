"""Generate the processes/*.bpmn files from compact Python descriptions (defs/)."""
