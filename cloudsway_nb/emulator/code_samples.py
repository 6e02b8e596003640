"""Code for long-form answers: a small, valid program per language, named after the request.

Python has a little catalogue chosen by the request's words (reverse, sort, fibonacci, prime,
factorial, palindrome, count, average); every other language (and Python otherwise) gets one
general program that cleans, de-duplicates and sorts a list of strings. Every sample is a
complete, syntactically valid file in its language, so a fenced block of it can be run.

Example:
    >>> language_of("Write a Rust function that sorts names")
    'rust'
    >>> code = sample("python", "reverse a string", ["alpha", "beta", "gamma"])
    >>> compile(code, "sample.py", "exec") is not None and "def reverse_string" in code
    True
"""

from __future__ import annotations

import re

__all__ = ["LANGUAGES", "function_name", "language_of", "run_command", "sample"]

#: Language names in prompts -> the fence's info string.
LANGUAGES: dict[str, str] = {
    "python": "python", "py": "python", "javascript": "javascript", "js": "javascript", "node": "javascript",
    "typescript": "typescript", "ts": "typescript", "bash": "bash", "shell": "bash", "sh": "bash", "sql": "sql",
    "rust": "rust", "go": "go", "golang": "go", "java": "java",
}  # fmt: skip
_STOP = {"a", "an", "the", "to", "of", "in", "for", "that", "which", "and", "or", "with", "me", "some", "code", "write",
         "function", "program", "script", "snippet", "class", "example", "implement", "implementation", "show",
         "give", "please", "how", "using", "it", "this", "my", "simple", "small", "short", "long", "detailed",
         "create", "make", "build", "can", "you", "i", "want", "need", "would", "like", "on", "about", "is", "be",
         *LANGUAGES}  # fmt: skip


def language_of(text: str) -> str:
    """The language a request names (``python`` when it names none).

    Example:
        >>> language_of("a SQL query for sales"), language_of("some code")
        ('sql', 'python')
    """
    for word in re.findall(r"[a-z+#]+", (text or "").lower()):
        if word in LANGUAGES and not (word == "go" and not re.search(r"\b(?:in|golang|go (?:code|program))\b", text)):
            return LANGUAGES[word]
    return "python"


def function_name(topic: str) -> str:
    """A snake_case name from the topic's words (at most three), ``process_items`` when it has none.

    Example:
        >>> function_name("reverse a string in Python")
        'reverse_string'
    """
    words = [w for w in re.findall(r"[a-z]+", (topic or "").lower()) if w not in _STOP and len(w) > 1]
    return "_".join(words[:3]) or "process_items"


def _camel(name: str) -> str:
    head, *rest = name.split("_")
    return head + "".join(w.capitalize() for w in rest)


def _python_catalogue(topic: str, name: str, words: list[str]) -> str | None:
    text = topic.lower()
    a, b, c = [*words, "alpha", "beta", "gamma"][:3]
    if "revers" in text:
        return (
            f'def {name}(text: str) -> str:\n    """Return ``text`` backwards."""\n    return text[::-1]\n\n\n'
            f'if __name__ == "__main__":\n    for word in ({a!r}, {b!r}, {c!r}):\n'
            f'        print(word, "->", {name}(word))\n'
        )
    if "fibonacci" in text:
        return (
            f'def {name}(count: int) -> list[int]:\n    """The first ``count`` Fibonacci numbers."""\n'
            "    numbers: list[int] = []\n    current, following = 0, 1\n    for _ in range(count):\n"
            "        numbers.append(current)\n        current, following = following, current + following\n"
            f'    return numbers\n\n\nif __name__ == "__main__":\n    print({name}(10))\n'
        )
    if "prime" in text:
        return (
            f'def {name}(limit: int) -> list[int]:\n    """The primes below ``limit`` (sieve of Eratosthenes)."""\n'
            "    if limit < 3:\n        return []\n    sieve = [True] * limit\n    sieve[0] = sieve[1] = False\n"
            "    for number in range(2, int(limit**0.5) + 1):\n        if sieve[number]:\n"
            "            sieve[number * number :: number] = [False] * len(range(number * number, limit, number))\n"
            "    return [n for n, is_prime in enumerate(sieve) if is_prime]\n\n\n"
            f'if __name__ == "__main__":\n    print({name}(50))\n'
        )
    if "factorial" in text:
        return (
            f'def {name}(n: int) -> int:\n    """``n!`` for a non-negative ``n``."""\n    if n < 0:\n'
            '        raise ValueError("n must be non-negative")\n    result = 1\n    for k in range(2, n + 1):\n'
            f'        result *= k\n    return result\n\n\nif __name__ == "__main__":\n'
            f"    print([{name}(n) for n in range(8)])\n"
        )
    if "palindrom" in text:
        return (
            f'def {name}(text: str) -> bool:\n    """Whether ``text`` reads the same both ways (letters only)."""\n'
            "    letters = [ch.lower() for ch in text if ch.isalnum()]\n    return letters == letters[::-1]\n\n\n"
            f'if __name__ == "__main__":\n    for text in ("A man, a plan, a canal: Panama", {a!r}):\n'
            f'        print(repr(text), {name}(text))\n'
        )
    if "sort" in text:
        return (
            f"def {name}(items: list[str]) -> list[str]:\n"
            '    """``items`` sorted case-insensitively, ties kept in order."""\n'
            "    return sorted(items, key=str.casefold)\n\n\n"
            f'if __name__ == "__main__":\n    print({name}([{c!r}, {a!r}, {b!r}]))\n'
        )
    if any(w in text for w in ("average", "mean", "statistic", "sum")):
        return (
            "from statistics import mean, median\n\n\n"
            f"def {name}(values: list[float]) -> dict[str, float]:\n"
            '    """Count, total, mean and median of ``values``."""\n'
            "    if not values:\n        raise ValueError(\"no values\")\n"
            '    return {"count": len(values), "total": sum(values),\n'
            '            "mean": mean(values), "median": median(values)}\n\n\n'
            f'if __name__ == "__main__":\n    print({name}([3.0, 1.5, 4.0, 1.0, 5.5]))\n'
        )
    if any(w in text for w in ("count", "frequen", "word")):
        return (
            "from collections import Counter\n\n\n"
            f'def {name}(text: str) -> list[tuple[str, int]]:\n    """The words of ``text``, most frequent first."""\n'
            "    words = [w.strip(\".,;:!?\").lower() for w in text.split()]\n"
            "    return Counter(w for w in words if w).most_common()\n\n\n"
            f'if __name__ == "__main__":\n    print({name}("{a} {b} {a} {c} {a} {b}"))\n'
        )
    return None


def sample(language: str, topic: str, words: list[str]) -> str:
    """A complete program in ``language`` for ``topic``; ``words`` give its sample data.

    Example:
        >>> print(sample("bash", "tidy names", ["b", "a", "b"]))  # doctest: +ELLIPSIS
        #!/usr/bin/env bash
        set -euo pipefail
        ...
    """
    name = function_name(topic)
    camel = _camel(name)
    a, b, c = [*words, "alpha", "beta", "gamma"][:3]
    if language == "python":
        found = _python_catalogue(topic, name, [a, b, c])
        if found is not None:
            return found
        return (
            f"def {name}(items: list[str]) -> list[str]:\n"
            '    """Trimmed, de-duplicated (case-insensitively) and sorted."""\n'
            "    seen: dict[str, str] = {}\n    for item in items:\n        cleaned = item.strip()\n"
            "        if cleaned:\n            seen.setdefault(cleaned.casefold(), cleaned)\n"
            "    return sorted(seen.values(), key=str.casefold)\n\n\n"
            f'if __name__ == "__main__":\n    print({name}([" {b} ", "{a}", "{b}", "{c}"]))\n'
        )
    if language == "javascript":
        return (
            f"/** Trimmed, de-duplicated (case-insensitively) and sorted. */\nfunction {camel}(items) {{\n"
            "  const seen = new Map();\n  for (const item of items) {\n    const cleaned = item.trim();\n"
            "    if (cleaned && !seen.has(cleaned.toLowerCase())) {\n      seen.set(cleaned.toLowerCase(), cleaned);\n"
            "    }\n  }\n  return [...seen.values()].sort((x, y) => x.localeCompare(y));\n}\n\n"
            f'console.log({camel}([" {b} ", "{a}", "{b}", "{c}"]));\n'
        )
    if language == "typescript":
        return (
            f"/** Trimmed, de-duplicated (case-insensitively) and sorted. */\n"
            f"export function {camel}(items: string[]): string[] {{\n"
            "  const seen = new Map<string, string>();\n  for (const item of items) {\n"
            "    const cleaned = item.trim();\n"
            "    if (cleaned && !seen.has(cleaned.toLowerCase())) {\n      seen.set(cleaned.toLowerCase(), cleaned);\n"
            "    }\n  }\n  return [...seen.values()].sort((x, y) => x.localeCompare(y));\n}\n\n"
            f'console.log({camel}([" {b} ", "{a}", "{b}", "{c}"]));\n'
        )
    if language == "bash":
        return (
            "#!/usr/bin/env bash\nset -euo pipefail\n\n"
            f"# {name}: trimmed, de-duplicated and sorted lines of standard input\n{name}() {{\n"
            "  sed -e 's/^[[:space:]]*//' -e 's/[[:space:]]*$//' | grep -v '^$' | sort -f -u\n}\n\n"
            f"printf '%s\\n' ' {b} ' '{a}' '{b}' '{c}' | {name}\n"
        )
    if language == "sql":
        table = name if name != "process_items" else "items"
        return (
            f"-- {name}: one row per distinct name, most frequent first\n"
            f"CREATE TABLE {table} (id INTEGER PRIMARY KEY, name TEXT NOT NULL);\n\n"
            f"INSERT INTO {table} (name) VALUES ('{a}'), ('{b}'), ('{a}'), ('{c}');\n\n"
            f"SELECT name, COUNT(*) AS total\nFROM {table}\nGROUP BY name\nORDER BY total DESC, name;\n"
        )
    if language == "rust":
        return (
            "/// Trimmed, de-duplicated (case-insensitively) and sorted.\n"
            f"fn {name}(items: &[&str]) -> Vec<String> {{\n"
            "    let mut seen = std::collections::BTreeMap::new();\n    for item in items {\n"
            "        let cleaned = item.trim();\n        if !cleaned.is_empty() {\n"
            "            seen.entry(cleaned.to_lowercase()).or_insert_with(|| cleaned.to_string());\n"
            "        }\n    }\n    seen.into_values().collect()\n}\n\n"
            f'fn main() {{\n    println!("{{:?}}", {name}(&[" {b} ", "{a}", "{b}", "{c}"]));\n}}\n'
        )
    if language == "go":
        return (
            'package main\n\nimport (\n\t"fmt"\n\t"sort"\n\t"strings"\n)\n\n'
            f"// {camel} returns the items trimmed, de-duplicated (case-insensitively) and sorted.\n"
            f"func {camel}(items []string) []string {{\n\tseen := map[string]string{{}}\n"
            "\tfor _, item := range items {\n\t\tcleaned := strings.TrimSpace(item)\n"
            "\t\tif cleaned == \"\" {\n\t\t\tcontinue\n\t\t}\n"
            "\t\tif _, ok := seen[strings.ToLower(cleaned)]; !ok {\n"
            "\t\t\tseen[strings.ToLower(cleaned)] = cleaned\n\t\t}\n"
            "\t}\n\tresult := make([]string, 0, len(seen))\n\tfor _, value := range seen {\n"
            "\t\tresult = append(result, value)\n\t}\n\tsort.Strings(result)\n\treturn result\n}\n\n"
            f'func main() {{\n\tfmt.Println({camel}([]string{{" {b} ", "{a}", "{b}", "{c}"}}))\n}}\n'
        )
    if language == "java":
        klass = "".join(w.capitalize() for w in name.split("_"))
        return (
            "import java.util.List;\nimport java.util.TreeMap;\n\n"
            f"public final class {klass} {{\n"
            "    /** Trimmed, de-duplicated (case-insensitively) and sorted. */\n"
            f"    static List<String> {camel}(List<String> items) {{\n"
            "        TreeMap<String, String> seen = new TreeMap<>();\n        for (String item : items) {\n"
            "            String cleaned = item.strip();\n            if (!cleaned.isEmpty()) {\n"
            "                seen.putIfAbsent(cleaned.toLowerCase(), cleaned);\n            }\n        }\n"
            "        return List.copyOf(seen.values());\n    }\n\n"
            "    public static void main(String[] args) {\n"
            f'        System.out.println({camel}(List.of(" {b} ", "{a}", "{b}", "{c}")));\n    }}\n}}\n'
        )
    return sample("python", topic, words)


def run_command(language: str, name: str) -> str:
    """How to run a sample, as a shell line (for the *Usage* part of a long answer).

    Example:
        >>> run_command("python", "reverse_string")
        'python reverse_string.py'
    """
    return {
        "python": f"python {name}.py",
        "javascript": f"node {name}.js",
        "typescript": f"npx tsx {name}.ts",
        "bash": f"bash {name}.sh",
        "sql": f"sqlite3 :memory: < {name}.sql",
        "rust": f"rustc {name}.rs && ./{name}",
        "go": f"go run {name}.go",
        "java": f"java {''.join(w.capitalize() for w in name.split('_'))}.java",
    }.get(language, f"python {name}.py")
