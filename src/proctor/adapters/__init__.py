"""Framework adapters: proctor checks inside the OpenAI Agents SDK and LangChain / LangGraph.

Import the module of the framework in use; each needs its extra:

- ``proctor.adapters.openai_agents`` (``pip install 'proctor[openai-agents]'``)
- ``proctor.adapters.langchain`` (``pip install 'proctor[langchain]'``)
"""
