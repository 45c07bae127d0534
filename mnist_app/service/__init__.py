"""What a server runs on top of the engine, for any face (web, MCP, CLI): the model library
(`library`, `model_files`), training runs in a child process (`training_jobs`,
`child_process`), and people's drawings and personal fits (`personal_store`,
`personal_jobs`)."""
