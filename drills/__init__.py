"""drills: the guided drills as plain state machines (no pygame, no I/O, no wall clock).

Public API (docs/drills.md for therapists; DESIGN section 2)::

    from drills import registry
    drill = registry.create("limits_of_stability", {"reach_pct": 80}, mat_shape=(48, 48))
    drill.begin()                                    # the patient tapped Start
    drill.update(t, frame_result, events, insoles)   # every analysed frame (kernels)
    view = drill.view()                              # DrillView: phase, instruction, live feedback
    drill.take_cues(); drill.take_alerts()           # sounds to play, safety stops to show
    drill.pause(); drill.resume(); drill.stop()
    drill.result()                                   # DrillResult: score 0-100, measures

    from drills.program import plan_for_patient      # a patient's program with progression
    from drills.feed import KernelFeed               # the kernels wired for a drill
    from drills.autopilot import patient_for, run_drill   # the cooperative virtual patient

Modules: ``base`` (the protocol), ``params`` and ``registry`` (prescribable
parameters), ``safety`` and ``geometry`` (loss-of-balance detection),
``scoring`` (score helpers, comparison with last time), ``program``
(prescriptions, progression), one module per drill.
"""
