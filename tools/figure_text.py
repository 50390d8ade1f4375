"""Captions and alternative text of the chapters' figures, written into the notebooks' cell metadata.

    .venv/bin/python tools/figure_text.py          # write them (only the metadata of these cells)
    .venv/bin/python tools/figure_text.py --check  # exit 1 when a notebook differs from this table

myst-nb reads ``mystnb.figure.caption`` and ``mystnb.image.alt`` from a code cell's metadata and
puts the cell's picture in a <figure> with that caption and alt text. A cell that draws several
pictures lists one (caption, alt) pair for each: the first goes where myst-nb reads it, and all of
them under ``ccnn.figures``, which book/_ext/figure_text.py puts on the pictures in order. Keeping the text here, one
place for all chapters, makes it easy to review; the notebooks carry a copy, so a student's
notebook and the book show the same words. The alt text says what the picture shows for a reader
who cannot see it; the caption says what to look at.
"""

import sys
from pathlib import Path

import nbformat

ROOT = Path(__file__).resolve().parents[1]

FIGURES = {
    "perceptron": {
        "perceptron-5": (
            "The perceptron on separable data: its boundary, and its mistakes per epoch falling to zero.",
            "Left: two clouds of points, class 0 and class 1, in the plane of x0 and x1, with the straight "
            "line the perceptron learned running between them so that every point is on its own side. "
            "Right: the number of mistakes in each epoch, dropping over a few epochs to zero."),
        "perceptron-7": (
            "The perceptron on XOR: no line separates the classes, so the mistakes never reach zero.",
            "Left: the four XOR points at the corners of the unit square, the two diagonals in different "
            "classes, and the line the perceptron ended with, which leaves at least one point on the wrong "
            "side. Right: mistakes per epoch, going up and down without ever reaching zero."),
        "perceptron-13": (
            "Five activation functions (solid) and their derivatives (dashed).",
            "Five small plots over x from -4 to 4: step, sigmoid, tanh, ReLU and leaky ReLU. The step "
            "jumps from 0 to 1 at 0 and its derivative is 0; the sigmoid rises smoothly from 0 to 1 with a "
            "bell-shaped derivative peaking at 0.25; tanh rises from -1 to 1 with a derivative peaking at "
            "1; ReLU is 0 then the identity, with derivative 0 then 1; leaky ReLU has slope 0.1 on the left."),
        "perceptron-31": (
            "One hidden layer of perceptrons computes XOR: the region it assigns to class 1 is not a half-plane.",
            "The four XOR points with the decision regions of a network of three perceptrons with weights "
            "set by hand: the band between two parallel lines, along the diagonal through (0, 1) and (1, 0), "
            "is class 1, the two corners (0, 0) and (1, 1) fall in class 0, so all four points are "
            "classified correctly."),
    },
    "backpropagation": {
        "backpropagation-3": (
            "Quadratic loss and cross-entropy for target 1, and their derivatives.",
            "Left: loss against the prediction y from 0 to 1 with target 1. The quadratic loss is a "
            "shallow parabola that stays below one half; the cross-entropy grows without bound as y goes "
            "to 0. Right: the derivatives; the quadratic one is a straight line between -1 and 0, the "
            "cross-entropy one falls steeply towards minus infinity as y goes to 0."),
        "backpropagation-5": (
            "Cost surfaces of a two-weight network, quadratic loss and cross-entropy.",
            "Two 3-D surfaces of the loss over the two weights w1 and w2, each from -6 to 6, with the "
            "point (4, -5) marked. The quadratic-loss surface has broad flat plateaus; the cross-entropy "
            "surface is steep where the network is confidently wrong, so its gradient there is large."),
        "backpropagation-8": (
            "Error of one-sided and centered finite differences as the step shrinks.",
            "A log-log plot of absolute error against the step epsilon. The one-sided difference's error "
            "falls in proportion to epsilon, the centered one's in proportion to epsilon squared, much "
            "lower; for very small steps both rise again because rounding errors take over."),
        "backpropagation-12": (
            "The computation graph of J = cos(sin(x²) + 3x²), with each node's value and gradient.",
            "A graph drawn left to right: x feeds t = x squared; t feeds u1 = sin t and u2 = 3t; both feed "
            "u = u1 + u2, which feeds J = cos u. Each node is labelled with its forward value and with the "
            "gradient of J with respect to it, as the reverse pass computed them."),
        "backpropagation-30": (
            "Training loss of the two-layer network on MNIST, per batch and smoothed.",
            "The cross-entropy of each SGD mini-batch over about 500 steps, a noisy band falling quickly "
            "at first and then slowly, with its moving mean over 20 steps drawn as a smooth line through it."),
        "backpropagation-40": (
            "SGD, momentum, RMSProp and Adam on a narrow valley: paths and loss.",
            "Left: the paths of the four optimizers in the plane of w1 and w2 from the same start towards "
            "the minimum at the origin of a valley 25 times steeper along w2; plain SGD creeps, momentum "
            "overshoots and swings, RMSProp and Adam move diagonally. Right: f(w) per step on a log scale."),
        "backpropagation-42": (
            "The four optimizers training the same MNIST network: training loss per step.",
            "Four curves of training loss, averaged over 10 steps, against the step number, one per "
            "optimizer, each labelled with its test accuracy; the adaptive and momentum methods fall "
            "faster than plain SGD."),
        "backpropagation-48": (
            "The ten weight rows of a softmax classifier as 28×28 images, without a penalty, with L2 and with L1.",
            "Three rows of ten small images, one per digit 0 to 9, red for positive and blue for negative "
            "weights. Without a penalty the images are speckled, with the border pixels keeping their "
            "random starting values; with L2 they are smoother and smaller; with L1 most pixels are "
            "exactly zero and only strokes typical of each digit remain."),
        "backpropagation-relu-tanh": (
            "Training loss per SGD step of the same network with ReLU and with tanh, three seeds each: "
            "tanh is faster on pixels in [0, 1], ReLU far faster on raw bytes, where tanh saturates.",
            "Two plots of the training loss, averaged over 25 steps, against the SGD step from 0 to 600, "
            "three blue ReLU curves and three orange tanh curves in each, and a dotted line at loss 0.5. "
            "Left, pixels in [0, 1]: the tanh curves fall from 2.3 at once and cross 0.5 near step 280; "
            "the ReLU curves stay flat near 2.3 for about 150 steps, then fall and cross 0.5 near step "
            "500. Right, raw bytes minus the mean image: the ReLU curves drop below 0.5 before step 100 "
            "and end near 0.1; the tanh curves fall slowly and stay above 0.5 until late in the run, after "
            "step 400, if they reach it at all."),
    },
    "convolution": {
        "convolution-5": (
            "Neighbouring pixels of a photograph are strongly correlated, and less so further apart.",
            "Left: the grey-scale photograph that ships with the package. Right: the correlation between "
            "each pixel and the pixel d columns to its right, plotted against d; it starts near 1 for "
            "d = 1 and falls steadily as the distance grows."),
        # One cell, two pictures: each gets its own caption and alt text (book/_ext/figure_text.py).
        "convolution-11": [
            ("The lecture's 6×6 example, output (0, 0): the 3×3 window at the input's top-left corner, "
             "times the kernel, gives the output's top-left cell.",
             "Three grids in a row: the 6 by 6 input with a 3 by 3 window outlined at its top-left corner, "
             "the star sign, the 3 by 3 kernel, the equals sign, and the 4 by 4 output with its top-left "
             "cell, (0, 0), outlined."),
            ("The same example, output (0, 1): the window moves one column to the right, and so does the "
             "output cell.",
             "The same three grids: the window on the 6 by 6 input now starts one column further right, "
             "and the outlined cell of the 4 by 4 output is (0, 1), next to the top-left corner."),
        ],
        "convolution-19": (
            "The lecture's kernels applied to the photograph.",
            "Six small copies of the photograph, one per kernel: the identity leaves it unchanged, the box "
            "blur and Gaussian blur soften it, and Sobel x, Sobel y and the edge detector turn it into "
            "bright lines on black along vertical, horizontal and all edges."),
        "convolution-27": (
            "Learning a kernel by gradient descent: it converges to the Sobel kernel.",
            "Four panels: the mean squared error falling over the training steps towards zero; the learned "
            "3 by 3 kernel with its values written in, next to the Sobel x kernel with nearly the same "
            "values; and the learned kernel applied to the photograph, showing its vertical edges."),
        "convolution-30": (
            "One RGB input, four kernels, four feature maps.",
            "Five small images: a colour input and the four maps that four kernels of depth 3 make from "
            "it: vertical edges (Sobel x), horizontal edges (Sobel y), a blurred copy, and the response "
            "of a random kernel."),
        "convolution-34": (
            "Translation equivariance: moving the input moves the feature map by the same amount.",
            "Four images: a small patch of the photograph on a black canvas, its Sobel feature map, the "
            "same patch moved 15 pixels down and right, and its feature map, identical but moved by the "
            "same 15 pixels."),
        "convolution-36": (
            "The lecture's edge example: subtracting each pixel's left neighbour shows the vertical edges.",
            "Two images side by side: a 280 by 320 pixel photograph, and the 280 by 319 output of the "
            "two-pixel kernel, black except for bright outlines where the brightness changes from left "
            "to right."),
        "convolution-39": (
            "A 2×2 convolution on a 3×3 input as a 4×9 matrix.",
            "A grid of 4 rows and 9 columns. Each row is one output position and holds the kernel weights "
            "1, 2, 3 and 4 at the columns of the four input pixels under the window, with zeros "
            "elsewhere; from row to row the pattern shifts right."),
        "convolution-im2col-figure": (
            "im2col on the 3×3 input: each 2×2 window becomes one column, and the kernel as a row times "
            "that matrix gives every output at once.",
            "Four grids in a row: the 3 by 3 input holding 1 to 9 with its first 2 by 2 window outlined; "
            "the 2 by 2 kernel written as one row of 4 numbers; the 4 by 4 im2col matrix, whose first "
            "column, outlined, holds that first window's four values; and the output as one row of 4 "
            "values, the first outlined."),
        "convolution-45": (
            "Direct convolution against FFT convolution on a 128×128 image, as the kernel grows.",
            "Run time in milliseconds on a log scale against the kernel size F. The direct method's time "
            "grows quickly with F; the FFT method's stays nearly flat, so the two curves cross and the "
            "FFT wins for large kernels."),
    },
    "padding_stride": {
        "padding_stride-3": (
            "A 3-wide kernel on a row of 7 pixels at stride 1, 2 and 3: where the windows start.",
            "Three panels, each a row of 7 cells with the kernel's windows drawn below it. At stride 1 "
            "there are 5 windows, at stride 2 there are 3 that end exactly at the last pixel, and at "
            "stride 3 the windows do not fit: the last one would run past the end."),
        "padding_stride-9": (
            "How many 3×3 windows cover each pixel of a 7×7 input, without and with padding.",
            "Two 7 by 7 grids of counts. Without padding the corners are covered once, the edges two or "
            "three times and the centre nine times; with one pixel of padding every pixel is covered at "
            "least four times."),
        "padding_stride-15": (
            "Zero, replicate and reflect padding of the same 4×4 grid by 2 pixels.",
            "Three 8 by 8 grids, each with the numbers 1 to 16 in the outlined centre. Zero padding "
            "surrounds them with zeros; replicate padding repeats the border values outwards; reflect "
            "padding mirrors the grid at its border without repeating the border row or column."),
        "padding_stride-17": (
            "Blurring with zero padding darkens the border; replicate padding does not.",
            "Three versions of the photograph: the original, a blur with zero padding whose border fades "
            "to black, and a blur with replicate padding whose border keeps the image's brightness."),
        "padding_stride-21": (
            "Spatial size through stacks of convolutions, with and without padding and stride.",
            "Spatial size against the layer number for stacks of convolutions on a 32 by 32 input: "
            "without padding a 5 by 5 kernel takes 4 pixels off at every layer; with padding the size "
            "stays 32; with stride 2 it halves at every layer."),
        "padding_stride-23": (
            "A 3×3 blur at stride 1, 2 and 4: each stride downsamples the photograph.",
            "Three versions of the photograph at decreasing resolution, labelled with their sizes: full "
            "size at stride 1, about half as wide at stride 2, about a quarter at stride 4, blockier each "
            "time."),
        "padding_stride-25": (
            "The taps of a 3×3 kernel with dilation 1, 2 and 3.",
            "Three 7 by 7 grids with nine highlighted cells each: at dilation 1 they form a 3 by 3 block; "
            "at dilation 2 they are spread one cell apart over a 5 by 5 area; at dilation 3 two cells apart "
            "over the whole 7 by 7 grid."),
        "padding_stride-34": (
            "A transposed convolution with stride 2: each input value stamps a scaled kernel into the output.",
            "Three grids: a 2 by 2 input, a 3 by 3 kernel and the 5 by 5 output. The input's top-left "
            "value and the output's top-left 3 by 3 block it stamped are outlined; where neighbouring "
            "stamps overlap, in the middle row and column, their values add up."),
        "padding_stride-38": (
            "Receptive field against depth for plain, strided and dilated stacks of 3×3 convolutions.",
            "Receptive field in pixels against the number of layers. The plain stack grows by 2 pixels per "
            "layer, a straight line; the strided and the dilated stacks grow exponentially and lie on the "
            "same curve."),
    },
    "pooling": {
        "pooling-3": (
            "The lecture's max-pooling example: a 4×4 grid and its 2×2 max pool.",
            "A 4 by 4 grid of numbers divided into four 2 by 2 windows, an arrow, and the 2 by 2 result "
            "holding each window's largest value: 20, 30, 112 and 37."),
        "pooling-5": (
            "Max, average and N-max pooling (n = 2) of the same 4×4 grid.",
            "Four grids: the 4 by 4 input with its four 2 by 2 windows outlined, then three 2 by 2 "
            "results: the maxima, the means, and the means of the two largest values of each window."),
        "pooling-19": (
            "A digit, the same digit shifted one pixel, and their 4×4 max pools.",
            "Four small images: an MNIST digit, the digit moved one pixel right, which looks the same, and "
            "the two 7 by 7 max-pooled versions, which are nearly identical blocky shapes."),
        "pooling-21": (
            "The gradient of max pooling goes to the switches only; average pooling spreads it.",
            "Three 4 by 4 grids: the input with the maximum of each 2 by 2 window outlined, the gradient "
            "of max pooling with a 1 at each of those four positions and 0 elsewhere, and the gradient of "
            "average pooling with 0.25 everywhere."),
        "pooling-23": (
            "Overlapping 3×3 windows with stride 2: the centre value wins all four windows.",
            "Three grids: a 5 by 5 input with two of its four overlapping 3 by 3 windows outlined and the "
            "largest value in the middle, the 2 by 2 max pool, and the gradient, 4 at the centre and 0 "
            "everywhere else."),
        "pooling-27": (
            "Max pooling and unpooling with switches.",
            "Three grids: the 4 by 4 input, its 2 by 2 max pool, and the 4 by 4 unpooled map, which has "
            "each maximum back in its original place and zeros in the other twelve cells."),
    },
    "architectures": {
        "architectures-lecture-drawing": (
            "The lecture's typical CNN, drawn from `LectureCNN`: two blocks of convolution, max pool and ReLU, "
            "then a two-layer MLP.",
            "A row of blocks from left to right: the 1 by 28 by 28 input; a pile of 6 maps of 24 by 24 "
            "(5 by 5 convolution); 6 maps of 12 by 12 after 2 by 2 max pooling; ReLU; 12 maps of 8 by 8; "
            "12 maps of 4 by 4 after pooling; ReLU and flatten; a bar of 256 fully connected units; "
            "ReLU; and a bar of 10 output scores."),
        "architectures-ilsvrc": (
            "The winning top-5 error of the ImageNet competition, 2010 to 2015: from 2012 on, every winner "
            "is a CNN.",
            "A bar chart of the winning top-5 error per year. 2010, NEC-UIUC, 28.2%, and 2011, XRCE, 25.8%, "
            "are grey: no CNN. 2012, SuperVision (AlexNet), 15.3%; 2013, Clarifai, 11.7%; 2014, GoogLeNet, "
            "6.7%; and 2015, ResNet, 3.6%, are blue: CNNs. A grey dot beside the 2012 bar marks the "
            "runner-up of that year, without a CNN, at 26.2%. A dashed line at 5.1% marks one trained "
            "person; only the 2015 bar is below it."),
        "architectures-lenet-drawing": (
            "LeNet-5's layout, drawn from `LeNet5`: C1, S2, C3, S4, C5, F6 and the output.",
            "A row of blocks: the 1 by 32 by 32 input; C1, 6 maps of 28 by 28; ReLU; S2, 6 maps of 14 by "
            "14 after pooling; C3, 16 maps of 10 by 10; ReLU; S4, 16 maps of 5 by 5; C5, 120 maps of 1 by "
            "1; ReLU and flatten; F6, a bar of 84 units; ReLU; and a bar of 10 outputs."),
        "architectures-8": (
            "Flattening two 3×3 maps into one vector of 18 values, map 1 first.",
            "Two 3 by 3 grids side by side, map 1 in blue holding 1 to 9 and map 2 in orange holding 10 "
            "to 18; below them one row of 18 cells, the blue values 1 to 9 followed by the orange 10 to "
            "18, each map read row by row."),
        # The cell shows the training's progress bar (a widget) and then its curves.
        "architectures-15": [
            ("LeNet-5 training on the bundled digits: the progress bar over the 8 epochs, as the run "
             "that built this page left it.",
             "A progress bar, full, with the number of epochs done and the time the training took."),
            ("LeNet-5 training on the bundled digits: loss and accuracy per epoch.",
             "Two plots over the 8 epochs. Left: training and test loss, both falling, the test loss "
             "levelling off in the last epochs. Right: training and test accuracy, rising quickly and "
             "ending above 98 percent."),
        ],
        "architectures-17": (
            "LeNet-5's six learned C1 filters and the feature maps they make from one test digit.",
            "Top row: a test digit, then six 5 by 5 filters in red and blue, several of them edge "
            "detectors of different orientations. Bottom row: the six 28 by 28 feature maps, each "
            "lighting up along the strokes its filter matches."),
        "architectures-19": (
            "The 16 C3 feature maps of the same digit, 10×10 each.",
            "Two rows of eight small 10 by 10 grey images, blurred fragments of the digit's shape, "
            "each picking out a different combination of parts."),
        "architectures-32": (
            "AlexNet's parameters per layer: the fully connected layers hold almost all of them.",
            "A bar chart of parameters in millions for conv1 to conv5 (blue) and fc6 to fc8 (orange). The "
            "convolution bars are small, under 1.5 million each; fc6 towers at about 37.7 million, fc7 is "
            "about 16.8 million and fc8 about 4.1 million."),
    },
}


def apply(check=False):
    differ = []
    for chapter, cells in FIGURES.items():
        path = ROOT / "book" / "chapters" / f"{chapter}.ipynb"
        nb = nbformat.read(path, as_version=4)
        by_id = {c.get("id"): c for c in nb.cells}
        changed = False
        for cell_id, text in cells.items():
            cell = by_id.get(cell_id)
            if cell is None:
                raise SystemExit(f"{path.name}: no cell {cell_id!r} (was it renamed?)")
            pairs = text if isinstance(text, list) else [text]
            meta = cell.metadata.setdefault("mystnb", {})
            want = {"figure": {"caption": pairs[0][0]}, "image": {"alt": pairs[0][1]}}
            many = [{"caption": c, "alt": a} for c, a in pairs] if len(pairs) > 1 else None
            if {k: meta.get(k) for k in want} != want or cell.metadata.get("ccnn", {}).get("figures") != many:
                differ.append(f"{path.name}:{cell_id}")
                meta.update(want)
                if many:
                    cell.metadata.setdefault("ccnn", {})["figures"] = many
                else:
                    cell.metadata.get("ccnn", {}).pop("figures", None)
                    if cell.metadata.get("ccnn") == {}:
                        del cell.metadata["ccnn"]
                changed = True
        if changed and not check:
            nbformat.write(nb, path)
    return differ


if __name__ == "__main__":
    check = "--check" in sys.argv
    differ = apply(check)
    if check and differ:
        print("figure text differs from tools/figure_text.py in:", ", ".join(differ))
        sys.exit(1)
    print(("up to date" if not differ else f"wrote {len(differ)} figure(s)"))
