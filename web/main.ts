import "uplot/dist/uPlot.min.css";
import "./components/ps-app.ts";
