"""The one end-of-reply rule (backends/finish.py), by hand against vLLM 0.29.0's check_stop and prompt-length
check; each engine's own test holds it to this rule (test_vllm_backend, test_transformers_backend,
test_ray_generation)."""

from judgebench.backends.finish import end_ids, finish_reason, no_room, reply_tokens, room


def test_room_is_the_smaller_of_max_tokens_and_what_the_context_leaves():
    assert room(60, 16, 64) == 4 and room(10, 16, 64) == 16 and room(10, 16, None) == 16
    assert no_room(63, 64) is None  # one token of room: generated
    assert "prompt of 64 tokens" in no_room(64, 64) and no_room(65, 64) and no_room(10**6, None) is None


def test_a_reply_ends_at_its_first_end_id_which_counts_and_padding_does_not():
    assert reply_tokens([5, 6, 2, 1, 1], {2}) == ([5, 6, 2], True)
    assert reply_tokens([5, 6, 7], {2}) == ([5, 6, 7], False)
    assert reply_tokens([5, 9, 2], {2, 9}) == ([5, 9], True)  # any end id (Gemma's two)
    assert (finish_reason(True), finish_reason(False)) == ("stop", "length")


def test_end_ids_join_the_tokenizers_and_the_generation_configs():
    assert end_ids(2, [2, 107]) == {2, 107} and end_ids(2, 107) == {2, 107}
    assert end_ids(None, None) == set() and end_ids(0, None) == {0}
