"""Benchmarks: tools over the product that print their numbers. The assistant never imports them;
the command line does, only when `assistant bench` runs.

- `questions`: the question sets and how replies are scored;
- `typed`: typed questions: accuracy per set, matching latency, load time;
- `synthesis`: speech synthesis: time to first audio and real-time factor per voice engine;
- `spoken`: spoken questions through the listening path, in quiet and in the sounds of a ward,
  built from `conditions` (what is measured), `voices` (who speaks, and the cache of what they
  said), `noise` (babble, TV, fan, beeps, the reverberant room, and mixing), `trial` (one
  question through the listening path, and the scores of many), `report` (the tables) and
  `wer` (word error rate);
- `soak`: the hands-free loop for a long time on a virtual microphone.
"""
