"""The real google-genai package takes the emulator for Gemini: generate_content, its stream, thoughts."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import jsonschema
import pytest
from emulator_samples import KEY, mp4, wav
from google import genai
from google.genai import errors, types
from pydantic import BaseModel


@pytest.fixture
def client(emulator_url: str, closer: Callable[[Any], Any]) -> genai.Client:
    return closer(
        genai.Client(
            api_key=KEY,
            http_options=types.HttpOptions(base_url=f"{emulator_url}/v1/ai/gemini", api_version="v1beta"),
        )
    )


def test_generate_content(client: genai.Client) -> None:
    response = client.models.generate_content(
        model="gemini-2.5-flash",
        contents="Write a 150-word fable",
        config=types.GenerateContentConfig(
            system_instruction="You are a helpful AI assistant", temperature=0.8
        ),
    )
    assert response.text.startswith("You asked for a fable of about 150 words")  # a long, Markdown answer
    assert "Instructions noted: You are a helpful AI assistant." in response.text
    assert "\n\n**Moral:** " in response.text
    assert response.candidates[0].finish_reason == types.FinishReason.STOP
    usage = response.usage_metadata
    assert usage.total_token_count == usage.prompt_token_count + usage.candidates_token_count


def test_stream_with_thoughts(client: genai.Client) -> None:
    config = types.GenerateContentConfig(
        thinking_config=types.ThinkingConfig(include_thoughts=True, thinking_budget=1024)
    )
    chunks = list(client.models.generate_content_stream(model="g", contents="1 + 2 + 3 = ?", config=config))
    parts = [p for c in chunks for p in c.candidates[0].content.parts]
    thoughts = "".join(p.text for p in parts if p.thought)
    answer = "".join(p.text for p in parts if not p.thought and p.text)
    assert thoughts.startswith("The user wrote: 1 + 2 + 3 = ?")
    assert answer == "You said: 1 + 2 + 3 = ?"
    last = chunks[-1].usage_metadata
    assert last.thoughts_token_count > 0
    assert (
        last.total_token_count
        == last.prompt_token_count + last.candidates_token_count + last.thoughts_token_count
    )
    whole = client.models.generate_content(model="g", contents="1 + 2 + 3 = ?", config=config)
    first, second = whole.candidates[0].content.parts
    assert first.thought is True and first.text == thoughts
    assert second.text == answer and second.thought_signature
    assert whole.usage_metadata.thoughts_token_count == last.thoughts_token_count


def test_thinking_without_include_thoughts_counts_only(client: genai.Client) -> None:
    config = types.GenerateContentConfig(thinking_config=types.ThinkingConfig(thinking_budget=512))
    response = client.models.generate_content(model="g", contents="Hi", config=config)
    assert all(not p.thought for p in response.candidates[0].content.parts)
    assert response.usage_metadata.thoughts_token_count > 0


def test_function_calling_round_trip(client: genai.Client) -> None:
    declaration = types.FunctionDeclaration(
        name="get_weather",
        description="Weather now",
        parameters=types.Schema(
            type=types.Type.OBJECT,
            properties={
                "city": types.Schema(type=types.Type.STRING),
                "days": types.Schema(type=types.Type.INTEGER),
            },
            required=["city"],
        ),
    )
    config = types.GenerateContentConfig(
        tools=[types.Tool(function_declarations=[declaration])],
        automatic_function_calling=types.AutomaticFunctionCallingConfig(disable=True),
    )
    question = types.Content(role="user", parts=[types.Part(text="Weather in Lisbon for 3 days?")])
    response = client.models.generate_content(model="g", contents=[question], config=config)
    call = response.function_calls[0]
    assert call.name == "get_weather" and call.args == {"city": "Lisbon", "days": 3}
    follow = client.models.generate_content(
        model="g",
        contents=[
            question,
            response.candidates[0].content,
            types.Content(
                role="user",
                parts=[
                    types.Part.from_function_response(name="get_weather", response={"result": "sunny, 24 C"})
                ],
            ),
        ],
        config=config,
    )
    assert follow.text.startswith("The tool get_weather returned: sunny, 24 C.")


def test_json_response_schema(client: genai.Client) -> None:
    class Recipe(BaseModel):
        name: str
        servings: int
        ingredients: list[str]

    response = client.models.generate_content(
        model="g",
        contents="A recipe for Gazpacho serving 4",
        config=types.GenerateContentConfig(response_mime_type="application/json", response_schema=Recipe),
    )
    recipe = response.parsed
    assert isinstance(recipe, Recipe) and recipe.name == "Gazpacho" and recipe.servings == 4
    jsonschema.validate(recipe.model_dump(), Recipe.model_json_schema())


def test_inline_media_described(client: genai.Client) -> None:
    response = client.models.generate_content(
        model="g",
        contents=[
            types.Part.from_bytes(data=wav(2.0, 8000), mime_type="audio/wav"),
            types.Part.from_bytes(data=mp4(), mime_type="video/mp4"),
            types.Part.from_uri(file_uri="gs://bucket/clip.mp4", mime_type="video/mp4"),
            "Describe",
        ],
    )
    assert "Audio 1: WAV, 2.00 s, 8000 Hz mono." in response.text
    assert "Video 1: MP4 container, 2.50 s, 320x240" in response.text
    assert "Video 2: URL gs://bucket/clip.mp4 (not fetched)." in response.text
    details = {d.modality: d.token_count for d in response.usage_metadata.prompt_tokens_details}
    assert details[types.MediaModality.AUDIO] > 0 and details[types.MediaModality.VIDEO] > 0


def test_candidate_count_and_count_tokens(client: genai.Client) -> None:
    response = client.models.generate_content(
        model="g", contents="Pick", config=types.GenerateContentConfig(candidate_count=2)
    )
    texts = [c.content.parts[0].text for c in response.candidates]
    assert len(set(texts)) == 2
    counted = client.models.count_tokens(model="g", contents="Pick")
    assert counted.total_tokens == response.usage_metadata.prompt_token_count


def test_errors_raise_the_sdks_exceptions(emulator_url: str, closer: Callable[[Any], Any]) -> None:
    client = closer(
        genai.Client(
            api_key=KEY,
            http_options=types.HttpOptions(
                base_url=f"{emulator_url}/v1/ai/gemini",
                api_version="v1beta",
                headers={"x-emulator-fault": "503"},
            ),
        )
    )
    with pytest.raises(errors.ServerError) as err:
        client.models.generate_content(model="g", contents="x")
    assert err.value.code == 503 and err.value.status == "UNAVAILABLE"
