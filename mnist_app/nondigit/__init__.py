""" "Not a digit": things people draw that are not digits, generated (`negatives`), from
stroke fonts (`stroke_fonts`) and made by hand (`hand_made`); the digit detector's
training (`detector_training`); and how well a model refuses them (`refusal`)."""
