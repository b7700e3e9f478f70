import Foundation

/// Training curves as a self-contained SVG: training loss (left axis) and evaluation AUC (right
/// axis) against the iteration.
///
/// ```swift
/// let records = try model.fit(maxIter: 1000, display: 50, evalInterval: 200)
/// try TrainingPlot.svg(records, title: "DCN").write(toFile: "curves.svg", atomically: true, encoding: .utf8)
/// ```
public enum TrainingPlot {
    public static func svg(_ records: [TrainingRecord], title: String, oracleAUC: Double? = nil) -> String {
        let train = records.filter { $0.evalAUC == nil }.map { (Double($0.iter), $0.loss) }
        let eval = records.compactMap { r in r.evalAUC.map { (Double(r.iter), $0) } }
        let width = 720.0, height = 400.0, left = 60.0, right = 60.0, top = 40.0, bottom = 50.0
        let plotW = width - left - right, plotH = height - top - bottom
        let maxIter = max(1, (train.map(\.0) + eval.map(\.0)).max() ?? 1)
        let losses = train.map(\.1)
        let (lossLow, lossHigh) = padded(losses.min() ?? 0, losses.max() ?? 1)
        let aucs = eval.map(\.1) + (oracleAUC.map { [$0] } ?? [])
        let (aucLow, aucHigh) = padded(aucs.min() ?? 0.5, aucs.max() ?? 1)
        func x(_ i: Double) -> Double { left + plotW * i / maxIter }
        func y(_ v: Double, _ low: Double, _ high: Double) -> Double { top + plotH * (1 - (v - low) / (high - low)) }
        func path(_ points: [(Double, Double)], _ low: Double, _ high: Double) -> String {
            points.enumerated().map { i, p in
                String(format: "%@%.1f,%.1f", i == 0 ? "M" : "L", x(p.0), y(p.1, low, high))
            }.joined(separator: " ")
        }
        var svg = """
        <svg xmlns="http://www.w3.org/2000/svg" width="\(Int(width))" height="\(Int(height))" font-family="sans-serif" font-size="12">
        <rect width="100%" height="100%" fill="white"/>
        <text x="\(width / 2)" y="22" text-anchor="middle" font-size="15">\(escape(title))</text>
        <rect x="\(left)" y="\(top)" width="\(plotW)" height="\(plotH)" fill="none" stroke="#999"/>

        """
        for k in 0...4 {
            let f = Double(k) / 4
            let gy = top + plotH * (1 - f)
            svg += String(format: "<line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\" stroke=\"#eee\"/>\n", left, gy, left + plotW, gy)
            svg += String(format: "<text x=\"%.1f\" y=\"%.1f\" text-anchor=\"end\" fill=\"#1f77b4\">%.3f</text>\n",
                          left - 6, gy + 4, lossLow + f * (lossHigh - lossLow))
            svg += String(format: "<text x=\"%.1f\" y=\"%.1f\" fill=\"#d62728\">%.3f</text>\n",
                          left + plotW + 6, gy + 4, aucLow + f * (aucHigh - aucLow))
            svg += String(format: "<text x=\"%.1f\" y=\"%.1f\" text-anchor=\"middle\">%d</text>\n",
                          left + plotW * f, top + plotH + 18, Int(maxIter * f))
        }
        svg += "<text x=\"\(left + plotW / 2)\" y=\"\(height - 10)\" text-anchor=\"middle\">iteration</text>\n"
        svg += "<path d=\"\(path(train, lossLow, lossHigh))\" fill=\"none\" stroke=\"#1f77b4\" stroke-width=\"1.5\"/>\n"
        svg += "<path d=\"\(path(eval, aucLow, aucHigh))\" fill=\"none\" stroke=\"#d62728\" stroke-width=\"2\"/>\n"
        for p in eval {
            svg += String(format: "<circle cx=\"%.1f\" cy=\"%.1f\" r=\"3\" fill=\"#d62728\"/>\n", x(p.0), y(p.1, aucLow, aucHigh))
        }
        if let oracleAUC {
            let oy = y(oracleAUC, aucLow, aucHigh)
            svg += String(format: "<line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\" stroke=\"#d62728\" stroke-dasharray=\"5,4\"/>\n", left, oy, left + plotW, oy)
            svg += String(format: "<text x=\"%.1f\" y=\"%.1f\" fill=\"#d62728\">oracle AUC %.4f</text>\n", left + 8, oy - 5, oracleAUC)
        }
        svg += "<text x=\"\(left + 8)\" y=\"\(top + plotH - 8)\" fill=\"#1f77b4\">training loss</text>\n"
        svg += "<text x=\"\(left + plotW - 8)\" y=\"\(top + plotH - 8)\" text-anchor=\"end\" fill=\"#d62728\">eval AUC</text>\n"
        return svg + "</svg>\n"
    }

    private static func padded(_ low: Double, _ high: Double) -> (Double, Double) {
        let span = max(high - low, 1e-3)
        return (low - 0.05 * span, high + 0.05 * span)
    }

    private static func escape(_ s: String) -> String {
        s.replacingOccurrences(of: "&", with: "&amp;").replacingOccurrences(of: "<", with: "&lt;")
    }
}
