"""Access for LLM agents (issue #14): the tools (:mod:`finews.agent.tools`) and the MCP
server that offers them (:mod:`finews.agent.server`)."""
