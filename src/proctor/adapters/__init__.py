"""Framework adapters: proctor checks inside agent frameworks, governed as the MCP proxy governs.

Import the module of the framework in use; each needs its extra (docs/adapters.md):

- ``proctor.adapters.openai_agents`` (``pip install 'proctor[openai-agents]'``)
- ``proctor.adapters.langchain`` (``pip install 'proctor[langchain]'``)
- ``proctor.adapters.langgraph`` (``pip install 'proctor[langgraph]'``)
- ``proctor.adapters.pydantic_ai`` (``pip install 'proctor[pydantic-ai]'``)
- ``proctor.adapters.llama_index`` (``pip install 'proctor[llama-index]'``)
- ``proctor.adapters.autogen`` (``pip install 'proctor[autogen]'``)
- ``proctor.adapters.smolagents`` (``pip install 'proctor[smolagents]'``)
- ``proctor.adapters.claude_agent_sdk`` (``pip install 'proctor[claude-agent-sdk]'``)
- ``proctor.adapters.google_adk`` (``pip install 'proctor[google-adk]'``)
- ``proctor.adapters.crewai`` (``pip install 'proctor[crewai]'``)
- ``proctor.adapters.strands`` (``pip install 'proctor[strands]'``)
"""
